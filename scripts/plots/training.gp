# Loss and accuracy against epoch, train and validation.
# Expects: datafile (columns: epoch train_loss val_loss train_acc val_acc),
# outfile, plottitle. NaN marks a value that was not measured.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1100,450 noenhanced font ",10"
} else {
    set terminal png size 1100,450
}
set output outfile
set datafile missing "NaN"
set key top right
set grid
set multiplot layout 1,2 title plottitle
set title "loss"
set xlabel "epoch"
set ylabel "contrastive / cross-entropy loss"
plot datafile using 1:2 with linespoints pt 7 ps 0.5 title "train", \
     datafile using 1:3 with linespoints pt 5 ps 0.5 title "validation"
set title "accuracy"
set ylabel "accuracy"
set key bottom right
plot datafile using 1:4 with linespoints pt 7 ps 0.5 title "train", \
     datafile using 1:5 with linespoints pt 5 ps 0.5 title "validation"
unset multiplot
