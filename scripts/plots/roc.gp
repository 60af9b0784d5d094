# ROC curve with the chance diagonal.
# Expects: datafile (columns: false positive rate, true positive rate),
# outfile, plottitle, auc.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 520,480 noenhanced font ",11"
} else {
    set terminal png size 520,480
}
set output outfile
set title plottitle
set xlabel "false positive rate"
set ylabel "true positive rate"
set xrange [0:1]
set yrange [0:1]
set size square
set grid
set key bottom right
plot datafile using 1:2 with lines lw 2 title sprintf("ROC (AUC = %.4f)", auc), \
     x with lines dt 2 lc rgb "grey" title "chance"
