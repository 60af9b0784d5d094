# Accuracy against one hyper-parameter, the others fixed.
# Expects: datafile (columns: value val_acc test_acc), outfile, plottitle,
# param (axis label), logx (1 for a log scale, e.g. learning rates).
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 700,480 noenhanced font ",11"
} else {
    set terminal png size 700,480
}
set output outfile
set datafile missing "NaN"
set title plottitle
set xlabel param noenhanced
set ylabel "accuracy"
set grid
set key bottom right
if (logx) { set logscale x }
plot datafile using 1:2 with linespoints pt 7 title "validation", \
     datafile using 1:3 with linespoints pt 5 title "test"
