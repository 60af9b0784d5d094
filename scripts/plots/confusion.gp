# 2x2 confusion matrix with counts in the cells.
# Expects: datafile (a 2x2 matrix: rows truth different/same, columns
# prediction different/same), outfile, plottitle.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 520,480 noenhanced font ",11"
} else {
    set terminal png size 520,480
}
set output outfile
set title plottitle
set xlabel "predicted"
set ylabel "true"
set xtics ("different" 0, "same" 1)
set ytics ("different" 0, "same" 1)
set xrange [-0.5:1.5]
set yrange [1.5:-0.5]
set size square
set palette defined (0 "white", 1 "#2171b5")
set cblabel "pairs"
unset key
plot datafile matrix with image, \
     datafile matrix using 1:2:(sprintf("%d", $3)) with labels font ",16"
