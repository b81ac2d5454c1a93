# {{name}}.gp -- written by ntkdrift; redraw with `gnuplot {{name}}.gp` in this directory.
# Data: {{name}}.dat (gnuplot blocks; the header comments name the columns).
if (!exists("outfile")) outfile = '{{name}}.png'
if (!exists("term")) term = "pngcairo size 960,640 enhanced font 'sans,11'"
set terminal @term
set output outfile
set encoding utf8
set grid lc rgb '#dddddd'
set key top left box opaque
dat = '{{name}}.dat'
