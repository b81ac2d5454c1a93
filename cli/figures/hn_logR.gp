widths = '{{widths}}'
set title 'Kernel fluctuations at initialization: R = E[K^2]/E[K]^2 (Hanin-Nica)'
set xlabel 'β = depth / width'
set ylabel 'log R'
plot for [i=1:words(widths)] dat index (i-1) using 1:(log($2)):(2*$3) with yerrorbars pt 7 lc i title 'K(x,x), n = '.word(widths,i), \
     for [i=1:words(widths)] dat index (i-1) using 1:(log($4)):(2*$5) with yerrorbars pt 6 lc i title 'K_d, n = '.word(widths,i), \
     for [i=1:words(widths)] dat index (i-1) using 1:(log($6)) with lines dt 2 lc i title 'log Π(1+5/n_l), n = '.word(widths,i), \
     5*x with lines lc rgb 'black' dt 3 title '5β (exp(5β))'
