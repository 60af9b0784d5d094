# Several runs' curves of one metric against epoch.
# Expects: datafile (one block per run, two blank lines apart: epoch value),
# outfile, plottitle, metric (its name), xlo, xhi, xstep (epoch ticks),
# nruns, labels[1..nruns] (the runs' names). NaN marks a value not measured.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 900,520 noenhanced font ",10"
} else {
    set terminal png size 900,520
}
set output outfile
set datafile missing "NaN"
set grid
set title plottitle
set xlabel "epoch"
set ylabel metric
set xrange [xlo:xhi]
set xtics xstep format "%.0f"
set key below left vertical maxrows 6
plot for [i=1:nruns] datafile index (i - 1) using 1:2 with linespoints pt 7 ps 0.5 \
     title labels[i]
