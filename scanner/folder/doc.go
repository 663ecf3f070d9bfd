// Package folder reads image files as camera frames: one PNG or JPEG
// file, or the PNG and JPEG files of a folder in name order. Tests and
// the demo (a folder input of scanner run) use it where a gate uses its
// camera.
//
// A Folder is a scanner.Source: Next returns each image as an
// *image.Gray, with Read.Name the file's name, and io.EOF after the last
// one, or starts over when Config.Loop is set.
//
// # Invariants
//
//   - Every file is bounded before it is decoded: a file over
//     Config.MaxBytes (32 MiB) is refused from its size on disk, and an
//     image over Config.MaxSide (8192) pixels a side from its header
//     (image.DecodeConfig), as is one whose decoding would take more memory
//     than a 16-bit RGBA PNG of MaxSide a side, or a JPEG of more than 100
//     scans. A refusal is an error wrapping ErrTooLarge for
//     that file, counted in Stats; the next call to Next goes on to the next
//     file. So is a file that does not decode.
//   - A frame is never converted through image.Image when it need not be:
//     a gray PNG is returned as decoded, and a JPEG's Y plane is returned
//     without a copy. Other images are converted with the weights of
//     color.GrayModel, transparent pixels showing white.
//   - No file is held open between calls to Next.
//
// # Order
//
// Files are read in the byte order of their names (so "10.png" before
// "9.png": number them with leading zeros). Hidden files (a name starting
// with ".") and subfolders are skipped. With Loop the folder is listed
// again at the start of each pass; a pass that yields no image ends the
// loop with io.EOF, so that a folder of broken files does not spin.
package folder
