widths = '{{widths}}'
C = {{C}}
set title 'First SGD step: |E ΔK| / (E K λ) against β'
set xlabel 'β = depth / width'
set ylabel '|E ΔK| / (λ E K)'
set logscale y
plot for [i=1:words(widths)] dat index (i-1) using 1:(abs($2)/$5):(2*$3/$5) with yerrorbars pt 7 lc i title 'pathwise, n = '.word(widths,i), \
     for [i=1:words(widths)] dat index (i-1) using 1:(abs($4)/$5) with points pt 6 lc i title 'literal, n = '.word(widths,i), \
     for [i=1:words(widths)] dat index (i-1) using 1:(C*$6) with lines dt 2 lc i title 'C (d^2/n) e^{5β}, C = {{C_short}} fitted, n = '.word(widths,i)
