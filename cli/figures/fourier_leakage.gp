set title 'Leakage of the Fourier modes across the eigenspaces of K_t'
set xlabel 'step'
set ylabel '1 - share of mode k kept in its K_0 eigenspace'
set logscale x
set yrange [0:1]
set key outside right
plot for [k=0:{{K}}] dat using ($1 > 0 ? $1 : 1/0):(column(k+2)) with linespoints pt 7 ps 0.5 title sprintf('k = %d', k)
