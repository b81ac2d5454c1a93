cells = '{{cells}}'
set title 'Kernel profile on the circle: K(x_0, x(γ)) (output mean for k > 1), mean and 10-90% band over seeds'
set xlabel 'γ (angle to x_0)'
set ylabel 'K'
set key outside right
plot for [i=1:words(cells)] dat index (i-1) using 1:3:4 with filledcurves fs transparent solid 0.15 lc i notitle, \
     for [i=1:words(cells)] dat index (i-1) using 1:2 with lines lw 2 lc i title word(cells,i), \
     for [i=1:words(cells)] dat index (i-1) using 1:5 with lines dt 2 lc i title word(cells,i).' limit'
