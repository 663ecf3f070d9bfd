package qr

import (
	"cmp"
	"math"
	"slices"

	"github.com/makiuchi-d/gozxing"
	multidetector "github.com/makiuchi-d/gozxing/multi/qrcode/detector"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// maxMultiCandidates bounds the finder-pattern candidates the multiple-code
// finder may confirm. It lists every triple of them that could be a code
// (the cube of their number to enumerate; for a sheet of like patterns,
// tens of thousands of triples, each sampled and decoded: 1.6 s on a
// 1280x720 frame through Budget). On the camera set it confirms at most 16.
const maxMultiCandidates = 64

// maxMultiTriples bounds the triples the Multi strategies sample and
// decode, the likest to the corners of an isosceles right triangle first.
// On the camera set the first one listed always decoded, of at most 2.
const maxMultiTriples = 16

// decodeMulti is the Multi strategies' reader: gozxing's multiple-code
// finder, then gozxing's detector and decoder on its best triples, in
// turn, until one decodes. It replaces gozxing's QRCodeMultiReader, which
// samples and decodes every triple the finder lists, however many.
func decodeMulti(m *gozxing.BitMatrix, hints map[gozxing.DecodeHintType]any) (*gozxing.Result, error) {
	infos, _, err := multiTriples(m, hints)
	if err != nil {
		return nil, err
	}
	det := detector.NewDetector(m)
	dec := decoder.NewDecoder()
	for _, in := range infos {
		dr, err := det.ProcessFinderPatternInfo(in)
		if err != nil {
			continue
		}
		dres, err := dec.Decode(dr.GetBits(), hints)
		if err != nil {
			continue
		}
		points := dr.GetPoints()
		if md, ok := dres.GetOther().(*decoder.QRCodeDecoderMetaData); ok {
			md.ApplyMirroredCorrection(points)
		}
		return gozxing.NewResult(dres.GetText(), dres.GetRawBytes(), points, gozxing.BarcodeFormat_QR_CODE), nil
	}
	return nil, ErrNotFound
}

// multiTriples returns the triples of finder patterns gozxing's
// multiple-code finder lists in m, the likest to the corners of an
// isosceles right triangle first, at most maxMultiTriples of them, and how
// many it listed. The search panics with errNoise past maxMultiCandidates.
func multiTriples(m *gozxing.BitMatrix, hints map[gozxing.DecodeHintType]any) ([]*detector.FinderPatternInfo, int, error) {
	hints = boundedSearch(hints, maxMultiCandidates, nil)
	cb := hints[gozxing.DecodeHintType_NEED_RESULT_POINT_CALLBACK].(gozxing.ResultPointCallback)
	infos, err := multidetector.NewMultiFinderPatternFinder(m, cb).FindMulti(hints)
	if err != nil {
		return nil, 0, err
	}
	dist := make(map[*detector.FinderPatternInfo]float64, len(infos))
	for _, in := range infos {
		dist[in] = rightness(sides(in.GetTopLeft(), in.GetTopRight(), in.GetBottomLeft()))
	}
	slices.SortStableFunc(infos, func(a, b *detector.FinderPatternInfo) int { return cmp.Compare(dist[a], dist[b]) })
	return infos[:min(len(infos), maxMultiTriples)], len(infos), nil
}

// sides returns the squared distances between a, b and c, shortest first.
func sides(a, b, c gozxing.ResultPoint) [3]float64 {
	sq := func(p, q gozxing.ResultPoint) float64 {
		dx, dy := p.GetX()-q.GetX(), p.GetY()-q.GetY()
		return dx*dx + dy*dy
	}
	e := [3]float64{sq(a, b), sq(b, c), sq(a, c)}
	slices.Sort(e[:])
	return e
}

// rightness is how far a triangle whose squared sides are e (shortest
// first) is from an isosceles right one: 0 for one, as gozxing's search
// measures it, but relative to the longest side so that it does not grow
// with the triangle.
func rightness(e [3]float64) float64 {
	if e[2] == 0 {
		return math.Inf(1)
	}
	return (math.Abs(e[2]-2*e[1]) + math.Abs(e[2]-2*e[0])) / e[2]
}
