// runtime/trace_files.cpp - the energy trace as CSV and as an SVG plot (hamux/io.h), and
// the line plotter behind both that plot and the training curves (plot.h).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "hamux/io.h"
#include "plot.h"

namespace hamux {

namespace {

std::string num(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string escape_xml(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

// About five round tick values covering [lo, hi].
std::vector<double> ticks(double lo, double hi) {
  const double span = hi - lo;
  const double raw = span / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return t;
}

}  // namespace

std::string trace_csv(const std::vector<TraceRow>& trace) {
  std::string out = "step";
  const size_t samples = trace.empty() ? 0 : trace[0].energy.size();
  for (size_t b = 0; b < samples; ++b) out += ",sample_" + std::to_string(b);
  out += "\n";
  for (const TraceRow& row : trace) {
    out += std::to_string(row.step);
    for (double e : row.energy) out += "," + num("%.9g", e);
    out += "\n";
  }
  return out;
}

std::string trace_svg(const std::vector<TraceRow>& trace, const std::string& title) {
  Plot plot{title, "step", "energy", {}, false};
  const size_t samples = trace.empty() ? 0 : std::min<size_t>(trace[0].energy.size(), 16);
  for (size_t b = 0; b < samples; ++b) {
    PlotSeries line{"sample " + std::to_string(b), {}, {}};
    for (const TraceRow& row : trace) {
      line.x.push_back(static_cast<double>(row.step));
      line.y.push_back(row.energy[b]);
    }
    plot.series.push_back(std::move(line));
  }
  return line_plot_svg(plot);
}

std::string line_plot_svg(const Plot& plot) {
  const double width = 640, height = 400, left = 90, right = plot.legend ? 150 : 20, top = 40, bottom = 50;
  const double pw = width - left - right, ph = height - top - bottom;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const PlotSeries& line : plot.series)
    for (size_t i = 0; i < line.x.size(); ++i)
      if (std::isfinite(line.x[i]) && std::isfinite(line.y[i])) {
        x0 = std::min(x0, line.x[i]), x1 = std::max(x1, line.x[i]);
        y0 = std::min(y0, line.y[i]), y1 = std::max(y1, line.y[i]);
      }
  if (!(x0 <= x1)) x0 = 0, x1 = 1;
  if (!(y0 <= y1)) y0 = 0, y1 = 1;
  if (y1 - y0 < 1e-12 * (1 + std::abs(y0))) y0 -= 0.5, y1 += 0.5;
  if (x1 <= x0) x1 = x0 + 1;
  const double pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return top + (y1 - y) / (y1 - y0) * ph; };

  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num("%g", width) + "\" height=\"" +
                  num("%g", height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + num("%g", width / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
       escape_xml(plot.title) + "</text>\n";
  s += "<rect x=\"" + num("%g", left) + "\" y=\"" + num("%g", top) + "\" width=\"" + num("%g", pw) + "\" height=\"" +
       num("%g", ph) + "\" fill=\"none\" stroke=\"black\"/>\n";
  for (double t : ticks(x0, x1)) {
    s += "<line x1=\"" + num("%.2f", px(t)) + "\" y1=\"" + num("%g", top + ph) + "\" x2=\"" + num("%.2f", px(t)) +
         "\" y2=\"" + num("%g", top + ph + 5) + "\" stroke=\"black\"/>\n";
    s += "<text x=\"" + num("%.2f", px(t)) + "\" y=\"" + num("%g", top + ph + 18) + "\" text-anchor=\"middle\">" +
         num("%g", t) + "</text>\n";
  }
  for (double t : ticks(y0, y1)) {
    s += "<line x1=\"" + num("%g", left - 5) + "\" y1=\"" + num("%.2f", py(t)) + "\" x2=\"" + num("%g", left) +
         "\" y2=\"" + num("%.2f", py(t)) + "\" stroke=\"black\"/>\n";
    s += "<text x=\"" + num("%g", left - 8) + "\" y=\"" + num("%.2f", py(t) + 4) + "\" text-anchor=\"end\">" +
         num("%.4g", t) + "</text>\n";
  }
  s += "<text x=\"" + num("%g", left + pw / 2) + "\" y=\"" + num("%g", height - 10) + "\" text-anchor=\"middle\">" +
       escape_xml(plot.x_label) + "</text>\n";
  s += "<text x=\"16\" y=\"" + num("%g", top + ph / 2) + "\" text-anchor=\"middle\" transform=\"rotate(-90 16 " +
       num("%g", top + ph / 2) + ")\">" + escape_xml(plot.y_label) + "</text>\n";
  static const char* const colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                       "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  for (size_t b = 0; b < plot.series.size(); ++b) {
    const PlotSeries& line = plot.series[b];
    std::string points;
    for (size_t i = 0; i < line.x.size(); ++i) {
      if (!std::isfinite(line.x[i]) || !std::isfinite(line.y[i])) continue;
      points += num("%.2f", px(line.x[i])) + "," + num("%.2f", py(line.y[i])) + " ";
    }
    s += "<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"" + std::string(colors[b % 10]) + "\" points=\"" +
         points + "\"/>\n";
    if (plot.legend) {
      const double ly = top + 14 + 18 * static_cast<double>(b), lx = left + pw + 12;
      s += "<rect x=\"" + num("%g", lx) + "\" y=\"" + num("%g", ly - 6) + "\" width=\"16\" height=\"3\" fill=\"" +
           std::string(colors[b % 10]) + "\"/>\n";
      s += "<text x=\"" + num("%g", lx + 22) + "\" y=\"" + num("%g", ly) + "\">" + escape_xml(line.label) + "</text>\n";
    }
  }
  s += "</svg>\n";
  return s;
}

}  // namespace hamux
