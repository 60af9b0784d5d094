# Grid comparison: accuracy and training time per configuration.
# Expects: datafile (columns: rank "label" val_acc test_acc train_seconds),
# outfile, plottitle.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1200,520 noenhanced font ",10"
} else {
    set terminal png size 1200,520
}
set output outfile
set datafile missing "NaN"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -40 left noenhanced
set grid ytics
set multiplot layout 1,2 title plottitle
set title "accuracy"
set style histogram clustered gap 1
set ylabel "accuracy"
set yrange [0:1]
set key top right
plot datafile using 3:xtic(2) title "validation", \
     datafile using 4 title "test"
set title "training time"
set ylabel "seconds"
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
unset key
plot datafile using 5:xtic(2) lc rgb "#888888"
unset multiplot
