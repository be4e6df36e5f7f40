# Thin wrapper over the npm scripts; each target installs what it needs first.
.PHONY: all install proto build lint typecheck test demo bench soak python-deps etcd prometheus chromium clean

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: node_modules/.installed

proto: install
	npm run proto

build: install
	npm run build

lint: install
	npm run lint

typecheck: install
	npm run typecheck

# Debian's python3-grpcio and protoc for the cross-language tests.
python-deps:
	bash test/interop/setup.sh

# Debian's etcd-server for the registry tests.
etcd:
	bash test/setup-etcd.sh

# Debian's prometheus for the metrics tests.
prometheus:
	bash test/setup-prometheus.sh

# Debian's chromium for the dashboard tests.
chromium:
	bash test/setup-chromium.sh

test: build python-deps etcd prometheus chromium
	npm run lint
	npm run typecheck
	npm test

demo: build
	npm run demo

bench: build
	npm run bench

# Ten minutes of mixed calls against one node: RSS, descriptors and threads before and after.
soak: build
	npx tsx bench/soak.ts 10

clean:
	rm -rf dist node_modules test/interop/gen
