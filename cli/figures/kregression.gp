set title 'Test error: trained network against kernel regression'
set xlabel 'width'
set ylabel 'test RMSE per entry (mean over non-unstable cells)'
set logscale x
plot dat using 1:2 with linespoints pt 7 title 'network', dat using 1:3 with linespoints pt 5 title 'kernel regression, K_0', dat using 1:4 with linespoints pt 9 title 'K_T (after kernel)', dat using 1:5 with linespoints pt 11 title 'K_∞ (infinite width)'
