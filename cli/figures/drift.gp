set title 'Kernel drift'
set xlabel 't = η step'
set ylabel 'relative change'
plot dat using 2:5 with linespoints pt 7 ps 0.6 title '||K_t - K_0||_F / ||K_0||_F', dat using 2:6 with linespoints pt 5 ps 0.6 title '||K_t - K_0||_2 / ||K_0||_2', dat using 2:7 with linespoints pt 6 ps 0.6 title 'kernel distance S(K_0, K_t)'
