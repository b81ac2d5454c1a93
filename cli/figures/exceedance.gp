ms = '{{ms}}'
set title 'Concentration: P(||B - E B||_{max} >= {/Symbol e}) over seeds, with the tail bound'
set xlabel '{/Symbol e}'
set ylabel 'share of seeds; bound'
set logscale xy
set yrange [*:2]
set key outside right
plot for [i=1:words(ms)] dat index (i-1) using 1:($2 > 0 ? $2 : 1/0) with linespoints pt 7 lc i title 'm = '.word(ms,i), \
     for [i=1:words(ms)] dat index (i-1) using 1:3 with lines dt 2 lc i title 'bound, m = '.word(ms,i)
