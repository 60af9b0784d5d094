# Loss and accuracy against epoch, train and validation.
# Expects: datafile (columns: epoch train_loss val_loss train_acc val_acc),
# outfile, plottitle, losslabel (the loss axis' label), xlo, xhi (the
# epochs shown), xstep (epochs between ticks), best (the best epoch, marked;
# NaN: none). NaN marks a value that was not measured.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1100,450 noenhanced font ",10"
} else {
    set terminal png size 1100,450
}
set output outfile
set datafile missing "NaN"
set grid
set xrange [xlo:xhi]
set xtics xstep format "%.0f"
set mxtics 1
bestmark = (best == best) ? sprintf("best epoch %d", best) : ""
if (best == best) {
    set arrow 1 from best, graph 0 to best, graph 1 nohead dashtype 2 lc rgb "#666666"
}
set multiplot layout 1,2 title plottitle
set title "loss"
set xlabel "epoch"
set ylabel losslabel
set key top right
plot datafile using 1:2 with linespoints pt 7 ps 0.5 title "train", \
     datafile using 1:3 with linespoints pt 5 ps 0.5 title "validation", \
     datafile using ($1 == best ? $1 : NaN):3 with points pt 6 ps 2.5 lw 2 lc rgb "#000000" \
         title bestmark
set title "accuracy"
set ylabel "accuracy"
set key bottom right
plot datafile using 1:4 with linespoints pt 7 ps 0.5 title "train", \
     datafile using 1:5 with linespoints pt 5 ps 0.5 title "validation", \
     datafile using ($1 == best ? $1 : NaN):5 with points pt 6 ps 2.5 lw 2 lc rgb "#000000" \
         title bestmark
unset multiplot
