depths = '{{depths}}'
w0 = {{w0}}
e0 = {{e0}}
set title 'Distance of the empirical NTK from its infinite-width limit'
set xlabel 'width'
set ylabel '||K_0 - K_∞||_F / ||K_∞||_F'
set logscale xy
plot for [i=1:words(depths)] dat index (i-1) using 1:2:(2*$3) with yerrorlines pt 7 lc i title 'one network, depth '.word(depths,i), \
     for [i=1:words(depths)] dat index (i-1) using 1:4 with linespoints pt 6 dt 2 lc i title 'seed-averaged kernel, depth '.word(depths,i), \
     e0 * sqrt(w0 / x) with lines dt 3 lc rgb 'black' title '∝ n^{-1/2}'
