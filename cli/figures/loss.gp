set title 'Training loss'
set xlabel 'step'
set ylabel 'loss'
set logscale y
plot dat using 1:3 with linespoints pt 7 ps 0.6 title 'train', dat using 1:4 with linespoints pt 6 ps 0.6 title 'eval'
