set title 'Regimes of training over β = depth/width and learning rate'
set xlabel 'β = depth / width'
set ylabel '{{lr_axis}}'
set logscale y
set key outside right
set offsets 0.02, 0.02, 0, 0
plot dat using 1:($4 == 0 ? $2 : 1/0) with points pt 7 ps 1.6 lc rgb '#1b9e77' title 'lazy', \
     dat using 1:($4 == 1 ? $2 : 1/0) with points pt 5 ps 1.6 lc rgb '#d95f02' title 'weak feature learning', \
     dat using 1:($4 == 2 ? $2 : 1/0) with points pt 9 ps 1.6 lc rgb '#7570b3' title 'unstable', \
     dat using 1:($3 > 0 && $4 != 2 ? $2 : 1/0) with points pt 6 ps 3 lc rgb 'black' title 'catapult'
