set title 'Top eigenvalues of K_t over training'
set xlabel 'step'
set ylabel 'eigenvalue'
set logscale y
set key outside right
plot for [i=2:{{last}}] dat using 1:i with linespoints pt 7 ps 0.5 title sprintf('λ_{%d}', i-1)
