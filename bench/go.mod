module github.com/checkpointgate/checkpoint/bench

go 1.26.0

require (
	github.com/checkpointgate/checkpoint v0.0.0
	github.com/oasisprotocol/curve25519-voi v0.0.0-20230904125328-1f23a7beb09a
)

require (
	github.com/fxamacker/cbor/v2 v2.10.0 // indirect
	github.com/makiuchi-d/gozxing v0.1.1 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	golang.org/x/xerrors v0.0.0-20200804184101-5ec99f83aff1 // indirect
)

replace github.com/checkpointgate/checkpoint => ../
