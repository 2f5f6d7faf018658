module slimgate.dev/bench/apiload

go 1.22
