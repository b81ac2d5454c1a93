cells = '{{cells}}'
set title 'Kernel drift against time, learning rate {{lr}}'
set xlabel 't = η step'
set ylabel '||K_t - K_0||_F / ||K_0||_F'
set logscale xy
set key outside right
plot for [i=1:words(cells)] dat index (i-1) using ($1 > 0 ? $1 : 1/0):($2 > 0 ? $2 : 1/0) with linespoints pt 7 ps 0.5 lc i title word(cells,i)
