set title 'Predictions from step 0 against the trained network, over width'
set xlabel 'width'
set ylabel 'e = ||f_T^{pred} - f_T|| / ||f_T - f_0||'
set logscale xy
set format y '10^{%L}'
set key top right box opaque
se(c) = column(c) == column(c) ? 2 * column(c) : 0
plot dat using 1:2:(se(3)) with yerrorlines pt 7 lc 1 title 'linearized (e_{lin})', \
     dat using 1:4:(se(5)) with yerrorlines pt 5 lc 2 title 'hierarchy, level 3 (e_3)', \
     dat using 1:6:(se(7)) with yerrorlines pt 9 lc 3 title 'hierarchy, level 4 (e_4)'
