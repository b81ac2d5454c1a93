set title 'Rotation of the top eigenspace of K_t against K_0'
set xlabel 't = η step'
set ylabel 'radians / distance'
plot dat using 2:8 with linespoints pt 7 ps 0.6 title 'largest principal angle', dat using 2:9 with linespoints pt 6 ps 0.6 title 'projector distance'
