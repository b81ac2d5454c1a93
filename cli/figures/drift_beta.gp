fracs = '{{fracs}}'
lrname = '{{lrname}}'
b0 = {{b0}}
d0 = {{d0}}
set title 'Final relative kernel drift ||K_T - K_0||_F / ||K_0||_F against β'
set xlabel 'β = depth / width'
set ylabel 'relative drift'
set logscale xy
plot for [i=1:words(fracs)] dat index (i-1) using 1:2 with points pt 7 lc i title lrname.word(fracs,i), \
     d0 * (x / b0) with lines dt 2 lc rgb 'black' title '∝ β (1/n at fixed depth)', \
     d0 * sqrt(x / b0) with lines dt 3 lc rgb 'black' title '∝ β^{1/2}'
