set title 'Trajectory error of the predictors: ||f_t - pred|| / ||f_t - f_0||'
set xlabel 'step'
set ylabel 'relative error'
set logscale y
plot dat using 1:10 with linespoints pt 7 ps 0.6 title 'frozen K_0 (linearized)', dat using 1:11 with linespoints pt 6 ps 0.6 title 'first order in ΔK', dat using 1:12 with linespoints pt 5 ps 0.6 title 'piecewise frozen K_t'
