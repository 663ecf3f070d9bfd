/*
Package qr reads QR codes from camera frames and image files, and renders
passes as QR codes, over the gozxing library.

A pass is text: "CP1:" and a few hundred characters of the Base45 alphabet,
which QR alphanumeric mode holds at 5.5 bits a character. This package
knows nothing of what the text means; it moves text into and out of
pictures.

# Decoding

Decode is the entry point for frames. A camera's luminance (Y) plane is
wrapped as an *image.Gray and read in place: the package never copies or
converts a whole frame on the way in, except to lay out a frame whose
rows are not contiguous (a sub-image) as gozxing's binarizer expects.
DecodeImage accepts any image.Image, reading *image.Gray and the Y plane
of *image.YCbCr in place; DecodeFile and DecodeReader read PNG and JPEG.

A Decoder tries several strategies in turn and returns the first text
gozxing's decoder returns (see Strategy): first Regrid, gozxing's
finder-pattern search with the sampling grid tried at every plausible
dimension and with finder candidates gozxing would not group (codes under
perspective), then the same over the frame at half size, then upscaled,
sharpened, smoothed and turned frames, other binarizers, gozxing's
multiple-code finder, a pure reading of a clean rendering and an inverted
frame. Frames over DoubleMaxPixels start at half size. A Decoder keeps
state between frames: it first tries the strategy that last succeeded on
the region around the code it last found (Result.Points), then on the
whole frame, so keep one Decoder per camera.

A frame without a code costs every strategy, and that is the common case
at a gate. For a live camera set Decoder.Budget (a little under the frame
interval): no strategy starts that would, by its running average cost,
end past it. Decoder.Fallbacks instead bounds the number of strategies a
call tries, taking the rest in turn on later frames
(BenchmarkDecodeEmpty640x480 measures both).

The package camtest generates camera-like frames for tests and for the
side-by-side benchmark in bench/.

# Encoding

Encode renders text at error-correction level M with a 4-module quiet zone
and modules sized for an image of about TargetSize pixels. Before it returns
an image it decodes it back through the finder-pattern strategy, in all four
orientations and at small module sizes too, and re-renders with another
mask pattern (or one version up) when that fails, because some data mimics
a finder pattern and defeats gozxing's search. docs/qr.md has the figures.

# Invariants

  - No misreads: a Result's text is exactly what gozxing's decoder returned
    after Reed–Solomon correction; nothing is guessed or repaired here.
  - No panics: gozxing can panic on odd input; every call into it recovers,
    and a malformed image (Pix too short for Rect and Stride) is an error.
  - Bounded input: images over MaxDimension pixels a side and files over
    MaxFileSize bytes are refused, a file from its header before any pixel
    is decoded, as is a file whose decoding would take more than its size
    shows (a progressive JPEG or an interlaced PNG near MaxDimension, a
    JPEG of many scans).
  - Decode never modifies the image it is given.
  - Every image Encode returns decodes to its text through the
    finder-pattern path in every orientation.

# Errors

Decode and its relatives return ErrNotFound when no code could be read
(the normal answer for most frames), ErrTooLarge for input over the
bounds, ErrFormat for a file that is neither PNG nor JPEG, and a wrapped
error for anything else. Test with errors.Is.
*/
package qr
