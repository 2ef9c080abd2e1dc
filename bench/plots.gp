# Plots of scripts/bench.sh. Called with -e "data='DIR'; out='DIR'; copy='t1 t2 ...';
# zerocopy='...'; spin='...'; sleep='...'", each list naming the .dat files of a scenario.
set terminal pngcairo size 1000,620 font ",10"
set grid
set key outside right top
set logscale x 2
set logscale y 10
set xtics ("8 B" 8, "64 B" 64, "512 B" 512, "4 KiB" 4096, "64 KiB" 65536)
set xlabel "message size"

do for [scenario in "1to1-copy 1to1-zerocopy"] {
  files = scenario eq "1to1-copy" ? copy : zerocopy
  if (strlen(files) > 0) {
    set output out."/throughput-".scenario.".png"
    set ylabel "messages per second (per reader)"
    set title "1 writer -> 1 reader, ".scenario." : messages/s (log scale)"
    plot for [t in files] data."/".scenario."/".t.".dat" using 1:2 with linespoints lw 2 title t
    set output out."/bandwidth-".scenario.".png"
    set ylabel "payload MB/s"
    set title "1 writer -> 1 reader, ".scenario." : MB/s (log scale)"
    plot for [t in files] data."/".scenario."/".t.".dat" using 1:3 with linespoints lw 2 title t
  }
}

unset logscale y
set logscale x 10
set xtics auto
set format x "%g"
set xlabel "one-way latency (ns, log scale)"
set ylabel "fraction of messages"
set yrange [0:1]
set key bottom right inside
do for [scenario in "latency-spin latency-sleep"] {
  files = scenario eq "latency-spin" ? spin : sleep
  if (strlen(files) > 0) {
    set output out."/latency-cdf-".scenario.".png"
    set title "one-way latency CDF, ".scenario
    plot for [t in files] data."/".scenario."/".t.".dat" using 1:2 with lines lw 2 title t
  }
}
