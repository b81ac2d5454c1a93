widths = '{{widths}}'
set title 'Eigenvalues of the sampled operator against the continuum'
set xlabel 'n {/Symbol l}_k'
set ylabel '|w_i - {/Symbol l}_k| / {/Symbol l}_k of the eigenvectors matched to plane k'
set logscale xy
set key outside right
plot for [i=1:words(widths)] dat index (i-1) using ($1*$2):($3 > 0 ? $3 : 1/0) with points pt 7 lc i title 'width '.word(widths,i)
