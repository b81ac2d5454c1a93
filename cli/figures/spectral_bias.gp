set title 'Spectral bias: Fourier modes of the training residual f_t - y'
set xlabel 'step'
set ylabel '|c_k|'
set logscale xy
set format y '10^{%L}'
set key outside right
plot for [k=1:{{K}}] dat using ($1 > 0 ? $1 : 1/0):(column(k+1)) with linespoints pt 7 ps 0.5 title sprintf('k = %d', k)
