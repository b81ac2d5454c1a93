set title 'Seed-mean spectrum drift of the group of runs'
set xlabel 't = η step'
set ylabel '||s(t) - s(0)|| / ||s(0)||'
plot dat using 2:3 with linespoints pt 7 ps 0.6 title 'seed mean s(t) of the top eigenvalues of K_t'
