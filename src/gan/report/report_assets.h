// The report page's style sheet and script, embedded in every report.html (report.h): no file
// or network beside the page is needed to view it.
#pragma once

extern const char gan_report_css[];
// Reads the JSON in <script id="gan-data"> (groups of series, sample grids) and draws each
// group as an inline SVG chart into <div id="plots">, as <figure class="plot" id="plot-ID">;
// wires the sample slider (#grid-slider) to #grid-img.
extern const char gan_report_js[];
