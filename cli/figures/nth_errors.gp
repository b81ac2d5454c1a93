set title 'Hierarchy against the linearized model: ||f_t - pred|| / ||f_t - f_0||'
set xlabel 't = η step'
set ylabel 'relative error'
set logscale y
plot dat using 2:3 with linespoints pt 7 ps 0.6 title 'frozen K_0 (linearized)', dat using 2:4 with linespoints pt 6 ps 0.6 title 'first order in measured ΔK', dat using 2:5 with linespoints pt 5 ps 0.6 title 'truncated hierarchy (from t = 0)'
