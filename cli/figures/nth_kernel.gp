set title 'Kernel drift, measured and predicted by the hierarchy'
set xlabel 't = η step'
set ylabel 'relative change'
plot dat using 2:3 with linespoints pt 7 ps 0.6 title 'measured ||K_t - K_0||_F / ||K_0||_F', dat using 2:4 with linespoints pt 6 ps 0.6 title 'predicted ||K_t^{nth} - K_0||_F / ||K_0||_F'
