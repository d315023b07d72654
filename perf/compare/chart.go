package main

import (
	"fmt"
	"math"
	"strings"
)

var colors = map[string]string{"direct": "#9e9e9e", "nginx": "#2e7d32", "haproxy": "#1565c0", "haproxy-tcp": "#90caf9", "socketx": "#e65100"}

// chartSVG draws two panels side by side: unpinned throughput per message
// size, and RSS KiB per held connection (slope) per proxy.
func chartSVG(recs []Record) string {
	const w, h, panelW, top, bottom = 960, 380, 440, 60, 320
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")

	// Left: throughput.
	// The unpinned rows of the standard connections × window (the first
	// throughput run's), one group per size.
	var rows []rowKey
	for _, k := range throughputRows(recs) {
		if !k.pinned && (len(rows) == 0 || k.conns == rows[0].conns && k.inflight == rows[0].inflight) {
			rows = append(rows, k)
		}
	}
	maxTP := 0.0
	for _, k := range rows {
		for _, t := range targets {
			if r := findRow(recs, t, k); r != nil && r.Bench != nil {
				maxTP = math.Max(maxTP, r.Bench.MsgsPerSec)
			}
		}
	}
	title := "Echo throughput (msgs/s)"
	if len(rows) > 0 {
		title = fmt.Sprintf("Echo throughput, %d conns × %d in flight (msgs/s)", rows[0].conns, rows[0].inflight)
	}
	panel(&b, 20, title, top, bottom, panelW, maxTP)
	groupW := float64(panelW-60) / math.Max(1, float64(len(rows)))
	for gi, k := range rows {
		size := k.size
		x0 := 70 + float64(gi)*groupW
		barW := groupW / float64(len(targets)+1)
		for ti, t := range targets {
			r := findRow(recs, t, k)
			if r == nil || r.Bench == nil {
				continue
			}
			bar(&b, x0+float64(ti)*barW, barW*0.9, r.Bench.MsgsPerSec, maxTP, top, bottom, colors[t], fmt.Sprintf("%.0fk", r.Bench.MsgsPerSec/1000))
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">%s</text>`+"\n", x0+barW*float64(len(targets))/2, bottom+18, sizeLabel(size))
	}

	// Right: memory.
	maxKiB := 0.0
	type mem struct {
		t string
		v float64
	}
	var mems []mem
	for _, t := range targets {
		if r := find(recs, "hold", t, 0, false); r != nil {
			if _, sl, _, ok := r.perConn(); ok {
				mems = append(mems, mem{t, sl})
				maxKiB = math.Max(maxKiB, sl)
			}
		}
	}
	x := 20 + panelW + 40
	panel(&b, x, "Proxy RSS per idle paired connection (KiB, slope)", top, bottom, panelW, maxKiB)
	barW := float64(panelW-60) / math.Max(1, float64(len(mems)))
	for i, m := range mems {
		bx := float64(x+50) + float64(i)*barW
		bar(&b, bx, barW*0.7, m.v, maxKiB, top, bottom, colors[m.t], fmt.Sprintf("%.1f", m.v))
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">%s</text>`+"\n", bx+barW*0.35, bottom+18, m.t)
	}

	// Legend.
	for i, t := range targets {
		lx := 20 + i*110
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", lx, h-22, colors[t], lx+16, h-12, t)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func panel(b *strings.Builder, x int, title string, top, bottom, width int, maxV float64) {
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", x, top-30, title)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x+40, bottom, x+width, bottom)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x+40, top, x+40, bottom)
	if maxV > 0 {
		for i := 1; i <= 4; i++ {
			y := float64(bottom) - float64(i)/4*float64(bottom-top)
			fmt.Fprintf(b, `<line x1="%d" y1="%.0f" x2="%d" y2="%.0f" stroke="#ddd"/><text x="%d" y="%.0f" text-anchor="end" font-size="10">%s</text>`+"\n",
				x+40, y, x+width, y, x+36, y+4, short(maxV*float64(i)/4))
		}
	}
}

func bar(b *strings.Builder, x, width, v, maxV float64, top, bottom int, color, label string) {
	if maxV <= 0 {
		return
	}
	hgt := v / maxV * float64(bottom-top)
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x, float64(bottom)-hgt, width, hgt, color)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>`+"\n", x+width/2, float64(bottom)-hgt-4, label)
}

func short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func sizeLabel(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}
