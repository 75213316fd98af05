// runtime/plot.h - a self-contained SVG line plot: the one plotter behind the energy trace
// (hamux/io.h: trace_svg) and the training curves (runtime/training/train.cpp).
#pragma once

#include <string>
#include <vector>

namespace hamux {

struct PlotSeries {
  std::string label;          // shown in the legend when the plot has one
  std::vector<double> x, y;   // points that are not finite are skipped
};

struct Plot {
  std::string title, x_label, y_label;
  std::vector<PlotSeries> series;  // at most 10 colours, repeated after
  bool legend = false;
};

std::string line_plot_svg(const Plot& plot);

}  // namespace hamux
