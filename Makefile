# openlab: the two commands.
#   make run   installs what is missing, builds, and starts the server (API and web console) at
#              http://127.0.0.1:8080
#   make test  installs what is missing, builds, and runs every test
BUILD ?= build

.PHONY: all deps build run test bench clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@ninja -C $(BUILD) openlab
	@BUILD=$(BUILD) scripts/console.sh build

run: build
	./$(BUILD)/openlab serve --listen 127.0.0.1:8080 --state ./var

test: deps
	@BUILD=$(BUILD) scripts/test.sh

bench: build
	bench/api_bench.sh

clean:
	rm -rf $(BUILD) $(BUILD)-fuzz
