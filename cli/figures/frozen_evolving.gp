set title 'Frozen against evolving: Fourier planes of the residual'
set xlabel 't = {/Symbol h} step'
set ylabel '||(c_{cos k}, c_{sin k})||'
set logscale y
set format y '10^{%L}'
set key outside right
plot for [k=0:{{K}}] dat using 1:(column(k+2)) with points pt 7 ps 0.6 lc k+1 title sprintf('network, k = %d', k), \
     for [k=0:{{K}}] dat using 1:(column(k+{{K}}+3)) with lines dt 2 lc k+1 notitle
