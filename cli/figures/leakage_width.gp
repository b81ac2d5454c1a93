ns = '{{ns}}'
set title 'Eigenspaces of the finite-width NTK against the Fourier planes'
set xlabel 'width'
set ylabel 'leakage; largest principal angle of plane 1'
set logscale xy
set key outside right
plot for [i=1:words(ns)] dat index (i-1) using 1:2 with points pt 7 lc i title 'leakage, n = '.word(ns,i), \
     for [i=1:words(ns)] dat index (i-1) using 1:3 with points pt 6 lc i title 'angle of plane 1, n = '.word(ns,i)
