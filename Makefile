# siamlua build. `make` builds ./siamlua, the Lua module ./siam.so and
# build/libsiam.a; `make install`, `make uninstall` (PREFIX, DESTDIR), `make test`,
# `make sanitize`, `make bench`, `make deps`, `make CUDA=1`, `make fuzz`,
# `make fuzz-short`, `make fuzz-long` (docs/fuzz.md). Sources are
# found by wildcard: a new .c file under host/, kernels/, bindings/ or a new
# tests/test_*.c needs no edit here.

CC ?= cc
BUILD ?= build
# build-cuda/ (make check-cuda) and build-gpu/ (make gpu-bundle) are CUDA
# builds: a make there without CUDA=1 would link their CUDA objects without
# the CUDA libraries.
CUDA ?= $(if $(filter build-cuda build-gpu,$(BUILD)),1,0)
CUDA_HOME ?= /usr/local/cuda
NVCC ?= $(CUDA_HOME)/bin/nvcc
# cuDNN outside CUDA_HOME (e.g. the nvidia-cudnn wheel's folder, which holds
# include/ and lib/); empty: CUDA_HOME's or the system's.
CUDNN_HOME ?=
SAN ?= 0

PKG_LUA := $(shell pkg-config --exists lua5.4 2>/dev/null && echo lua5.4)
LUA_CFLAGS := $(if $(PKG_LUA),$(shell pkg-config --cflags lua5.4),-I/usr/include/lua5.4)
LUA_LIBS := $(if $(PKG_LUA),$(shell pkg-config --libs lua5.4),-llua5.4)
BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS := $(or $(shell pkg-config --libs openblas 2>/dev/null),-lopenblas)
HAVE_OPENMP := $(shell echo 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo 1)
HAVE_BLAS := $(shell test -e /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h -o -e /usr/include/cblas.h && echo 1)
HAVE_EDIT := $(shell test -e /usr/include/editline/readline.h && echo 1)

OPT ?= -O2 -march=native
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT) -I. -MMD -MP \
	$(BLAS_CFLAGS) -fPIC
LDLIBS := $(BLAS_LIBS) -lstb -ljpeg -lm -lpthread
ifeq ($(HAVE_OPENMP),1)
CFLAGS_BASE += -fopenmp
LDLIBS += -fopenmp
endif
ifeq ($(HAVE_EDIT),1)
CFLAGS_BASE += -DSIAM_HAVE_LIBEDIT
EDIT_LIBS := -ledit
endif
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDLIBS += -fsanitize=address,undefined
endif

CUDA_OBJS :=
# How cuDNN and cuBLAS are named at link time: a wheel's folder has only the
# versioned files (libcudnn.so.9), so gpu-check's build on such a machine
# sets these to -l:libcudnn.so.9 and so on.
CUDNN_LIB ?= -lcudnn
CUBLAS_LIB ?= -lcublas
ifeq ($(CUDA),1)
ifeq ($(wildcard $(NVCC)),)
$(error CUDA=1 was asked for but nvcc is not at $(NVCC); set CUDA_HOME to the CUDA toolkit)
endif
CUDNN_INC := $(if $(CUDNN_HOME),-I$(CUDNN_HOME)/include)
ifeq ($(wildcard $(CUDNN_HOME)/include/cudnn.h)$(wildcard $(CUDA_HOME)/include/cudnn.h)$(wildcard /usr/include/cudnn.h)$(wildcard /usr/include/x86_64-linux-gnu/cudnn.h),)
$(error CUDA=1 was asked for but cudnn.h was not found under $(CUDA_HOME)/include (set CUDNN_HOME to a folder with include/cudnn.h))
endif
CFLAGS_BASE += -DSIAM_CUDA -I$(CUDA_HOME)/include $(CUDNN_INC)
# -ffp-contract=off: the host half of the .cu files (the augmentation's
# per-image draw) rounds as the C build does, which never contracts (-std=c11).
NVCCFLAGS := -std=c++17 -O2 -I. -I$(CUDA_HOME)/include $(CUDNN_INC) -DSIAM_CUDA \
	-gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90 \
	-Xcompiler -Wall,-Wextra,-Werror,-fPIC,-ffp-contract=off -MMD -MP
# The CUDA runtime is linked statically (no libcudart on the machine that
# runs it); cuDNN and cuBLAS stay shared libraries, found at run time in
# CUDA_HOME or through LD_LIBRARY_PATH (scripts/gpu-env.sh).
CUDA_LIBDIRS := $(if $(CUDNN_HOME),-L$(CUDNN_HOME)/lib) -L$(CUDA_HOME)/lib64
LDLIBS += $(CUDA_LIBDIRS) -Wl,-rpath,$(CUDA_HOME)/lib64 $(CUDNN_LIB) $(CUBLAS_LIB) \
	-lcudart_static -ldl -lrt -lstdc++
CUDA_OBJS := $(patsubst %.cu,$(BUILD)/%.o,$(wildcard kernels/cuda/*.cu))
endif

CFLAGS := $(CFLAGS_BASE) $(CFLAGS_EXTRA)

# The commit siam.build reports: the header is rewritten only when it
# changes, so this costs nothing on an unchanged tree.
$(shell bash scripts/commit_h.sh $(BUILD)/gen/commit.h)
$(BUILD)/bindings/build_info.o: CFLAGS += -I$(BUILD)/gen

CORE_SRCS := $(wildcard kernels/*.c kernels/cpu/*.c host/*.c)
BIND_SRCS := $(filter-out bindings/main.c bindings/repl.c,$(wildcard bindings/*.c))
CORE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRCS)) $(CUDA_OBJS)
BIND_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(BIND_SRCS)) $(BUILD)/gen/lua_modules.o $(BUILD)/gen/api_doc.o
LUA_MODS := $(sort $(wildcard bindings/lua/siam/*.lua))
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_SUPPORT := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))

LIBSIAM := $(BUILD)/libsiam.a
LIBBIND := $(BUILD)/libsiamlua.a
SIAMLUA := $(if $(filter build,$(BUILD)),siamlua,$(BUILD)/siamlua)
SIAMSO := $(if $(filter build,$(BUILD)),siam.so,$(BUILD)/siam.so)

.PHONY: all test check-includes sanitize bench deps clean info check-cuda install uninstall fuzz fuzz-bins fuzz-short fuzz-long \
	gpu-bundle gpu-bundle-test
all: info $(SIAMLUA) $(SIAMSO)

info:
	@echo "siamlua build: CC=$(CC) OpenBLAS=$(if $(HAVE_BLAS),yes,NO) OpenMP=$(if $(HAVE_OPENMP),yes,no) libedit=$(if $(HAVE_EDIT),yes,no) CUDA=$(if $(filter 1,$(CUDA)),yes ($(CUDA_HOME)),no) cuDNN=$(if $(filter 1,$(CUDA)),yes,no) sanitizers=$(if $(filter 1,$(SAN)),yes,no)"

# Rebuilt from scratch: `ar r` keeps members whose source is gone (a
# renamed file), which then clash with their successors.
$(LIBSIAM): $(CORE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(LIBBIND): $(BIND_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/bindings/%.o: bindings/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LUA_CFLAGS) -c $< -o $@

$(BUILD)/gen/lua_modules.c: $(LUA_MODS) bindings/lua/siam scripts/embed_lua.sh
	@mkdir -p $(dir $@)
	bash scripts/embed_lua.sh $@ $(LUA_MODS)

$(BUILD)/gen/lua_modules.o: $(BUILD)/gen/lua_modules.c
	$(CC) $(CFLAGS) $(LUA_CFLAGS) -c $< -o $@

# Text the binary shows: the API reference for the REPL's help(), and the
# list of runnable scripts for --help (siamlua only).
$(BUILD)/gen/api_doc.c: docs/api.md scripts/embed_text.sh
	@mkdir -p $(dir $@)
	bash scripts/embed_text.sh $@ siam_api_doc $<

$(BUILD)/gen/script_list.txt: $(wildcard experiments/*.lua scripts/*.lua) scripts/script_list.sh
	@mkdir -p $(dir $@)
	bash scripts/script_list.sh $(filter %.lua,$^) >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/script_list.c: $(BUILD)/gen/script_list.txt scripts/embed_text.sh
	bash scripts/embed_text.sh $@ siam_script_list $<

$(BUILD)/gen/api_doc.o $(BUILD)/gen/script_list.o: $(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/support/%.o: tests/support/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LUA_CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) $(NVCC_EXTRA) -c $< -o $@

# The augmentation's pixel sampling rounds as the CPU's, which the C build
# never contracts into fused multiply-adds (kernels/cuda/augment.cu).
$(BUILD)/kernels/cuda/augment.o: NVCC_EXTRA := -fmad=false

$(SIAMLUA): $(BUILD)/bindings/main.o $(BUILD)/bindings/repl.o $(BUILD)/gen/script_list.o $(LIBBIND) $(LIBSIAM)
	$(CC) $(CFLAGS) -o $@ $^ $(LUA_LIBS) $(EDIT_LIBS) $(LDLIBS)

# The Lua C module (require "siam" from lua5.4 or a program that embeds Lua):
# every binding, whole, and the core it needs. No liblua: the interpreter that
# loads it provides the Lua API, and a second copy of Lua would break it.
$(SIAMSO): $(LIBBIND) $(LIBSIAM)
	$(CC) $(CFLAGS) -shared -o $@ -Wl,--whole-archive $(LIBBIND) -Wl,--no-whole-archive \
		$(LIBSIAM) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(TEST_SUPPORT) $(LIBBIND) $(LIBSIAM)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LUA_CFLAGS) -o $@ $< $(TEST_SUPPORT) $(LIBBIND) $(LIBSIAM) -lcmocka $(LUA_LIBS) $(LDLIBS)

# make install PREFIX=/usr/local (DESTDIR=... for a staging root): the
# interpreter, the module where Lua 5.4 looks for C modules under PREFIX (on
# Debian's default package.cpath for /usr/local and /usr), the Lua scripts
# under share/siamlua (each folder whole, so a script finds its siblings) and
# the manual page. `make uninstall` with the same PREFIX removes them.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LUA_CMODDIR ?= $(PREFIX)/lib/lua/5.4
DATADIR ?= $(PREFIX)/share/siamlua
MANDIR ?= $(PREFIX)/share/man

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LUA_CMODDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(DATADIR)/experiments $(DESTDIR)$(DATADIR)/scripts
	install -m 755 $(SIAMLUA) $(DESTDIR)$(BINDIR)/siamlua
	install -m 644 $(SIAMSO) $(DESTDIR)$(LUA_CMODDIR)/siam.so
	install -m 644 experiments/*.lua $(DESTDIR)$(DATADIR)/experiments
	install -m 644 scripts/*.lua $(DESTDIR)$(DATADIR)/scripts
	install -m 644 docs/siamlua.1 $(DESTDIR)$(MANDIR)/man1/siamlua.1

# Folders are removed only when empty (another program may share them).
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/siamlua $(DESTDIR)$(LUA_CMODDIR)/siam.so \
		$(DESTDIR)$(MANDIR)/man1/siamlua.1
	rm -rf $(DESTDIR)$(DATADIR)
	-rmdir --ignore-fail-on-non-empty $(DESTDIR)$(LUA_CMODDIR) $(DESTDIR)$(dir $(LUA_CMODDIR)) \
		$(DESTDIR)$(MANDIR)/man1 2>/dev/null

test: info check-includes $(TEST_BINS) $(SIAMLUA) $(SIAMSO)
	@BUILD=$(BUILD) SAN=$(SAN) SIAMLUA=./$(SIAMLUA) bash tests/run.sh $(TEST_BINS)

# The layering, from the #include lines: kernels/ and host/ include no upper
# layer, bindings/ is acyclic with siam.c's module its only root.
check-includes:
	@bash scripts/check_includes.sh

sanitize:
	$(MAKE) BUILD=build-san SAN=1 OPT="-O1" test

# DEVICE=cuda: the GPU benchmark (scripts/bench.sh builds build-cuda/ itself).
DEVICE ?= cpu
bench: $(if $(filter cuda,$(DEVICE)),,all)
	@DEVICE=$(DEVICE) bash scripts/bench.sh

deps:
	@bash scripts/deps.sh

check-cuda:
	$(MAKE) CUDA=1 BUILD=build-cuda all $(patsubst $(BUILD)/%,build-cuda/%,$(TEST_BINS))

# Fuzzing (docs/fuzz.md): libFuzzer harnesses tests/fuzz/fuzz_*.c, every
# source built by clang with ASan + UBSan and coverage in build-fuzz/.
# fuzz-short runs each for FUZZ_SHORT_RUNS executions from a fixed seed
# (CI: the same inputs on every run, so a red CI is reproducible), fuzz-long
# for FUZZ_RUNS executions, one after the other; new inputs go to build-fuzz/corpus,
# crashes to build-fuzz/artifacts, never into the tree. -Wno-pass-failed:
# clang reports, at -O1, `omp simd` loops it chose not to vectorize.
FUZZ_CC ?= clang
FUZZ_NAMES := checkpoint pairs cache image
FUZZ_SHORT_RUNS ?= 300000
FUZZ_RUNS ?= 10000000
FUZZ_FLAGS ?= -rss_limit_mb=2048 -timeout=20 -print_final_stats=1
FUZZ_DIR := build-fuzz
FUZZ_SUPPORT := $(BUILD)/tests/fuzz/fuzz_support.o $(BUILD)/tests/support/ckpt_seal.o

fuzz:
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found (apt-get install clang-14 libclang-rt-14-dev)"; exit 1; }
	$(MAKE) BUILD=$(FUZZ_DIR) CC=$(FUZZ_CC) SAN=1 OPT="-O1 -march=native" \
		CFLAGS_EXTRA="-fsanitize=fuzzer-no-link -Wno-pass-failed" fuzz-bins

fuzz-bins: $(patsubst %,$(BUILD)/fuzz_%,$(FUZZ_NAMES)) $(BUILD)/make_seeds
	rm -rf $(BUILD)/seeds
	$(BUILD)/make_seeds $(BUILD)/seeds
	mkdir -p $(BUILD)/seeds/checkpoint && cp tests/fixtures/model-v2.ckpt $(BUILD)/seeds/checkpoint/

$(BUILD)/tests/fuzz/stb_image_impl.o: tests/fuzz/stb_image_impl.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Werror -Wall -Wextra,$(CFLAGS)) -w -c $< -o $@

$(BUILD)/fuzz_image: $(BUILD)/tests/fuzz/stb_image_impl.o
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SUPPORT) $(LIBSIAM)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_SUPPORT) \
		$(filter %stb_image_impl.o,$^) $(LIBSIAM) $(LDLIBS)

$(BUILD)/make_seeds: tests/fuzz/make_seeds.c $(FUZZ_SUPPORT) $(BUILD)/tests/support/toy_pairs.o \
		$(BUILD)/tests/support/tiny_model.o $(LIBSIAM)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

# The corpora a harness starts from: its generated and committed seeds.
fuzz_corpora = $(FUZZ_DIR)/corpus/$(1) $(wildcard $(FUZZ_DIR)/seeds/$(1) tests/fuzz/seeds/$(1))
fuzz_run = mkdir -p $(FUZZ_DIR)/corpus/$(1) $(FUZZ_DIR)/artifacts && \
	$(FUZZ_DIR)/fuzz_$(1) $(call fuzz_corpora,$(1)) $(FUZZ_FLAGS) \
	-artifact_prefix=$(FUZZ_DIR)/artifacts/$(1)- $(2)

fuzz-short: fuzz
	$(foreach t,$(FUZZ_NAMES),$(call fuzz_run,$(t),-seed=1 -runs=$(FUZZ_SHORT_RUNS) -max_total_time=300) &&) true

fuzz-long: fuzz
	$(foreach t,$(FUZZ_NAMES),nice -n 19 $(call fuzz_run,$(t),-runs=$(FUZZ_RUNS)) &&) true

# The prebuilt bundle for a GPU machine (.gpu/, scripts/gpu-bundle.sh) and
# its test here with nothing but the bundle and glibc (scripts/gpu-bundle-test.sh).
gpu-bundle:
	@bash scripts/gpu-bundle.sh

gpu-bundle-test: gpu-bundle
	@bash scripts/gpu-bundle-test.sh

clean:
	rm -rf build build-san build-cuda build-gpu build-fuzz siamlua siam.so

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
