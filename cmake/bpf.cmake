# Compiles a CO-RE BPF object at build time and generates its libbpf skeleton.
# vmlinux.h comes from the build host's BTF; nothing is compiled at run time.
find_program(BPFTOOL bpftool PATHS /usr/sbin /sbin REQUIRED)
find_program(BPF_CLANG clang REQUIRED)

set(SANDMINE_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "BTF used to generate vmlinux.h")
set(SANDMINE_BPF_GEN ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${SANDMINE_BPF_GEN})

add_custom_command(
  OUTPUT ${SANDMINE_BPF_GEN}/vmlinux.h
  COMMAND ${BPFTOOL} btf dump file ${SANDMINE_VMLINUX_BTF} format c > ${SANDMINE_BPF_GEN}/vmlinux.h
  COMMENT "Generating vmlinux.h from ${SANDMINE_VMLINUX_BTF}"
  VERBATIM)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(SANDMINE_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(SANDMINE_BPF_ARCH arm64)
else()
  message(FATAL_ERROR "sandmine's BPF recorder supports x86_64 and aarch64 hosts")
endif()

# sandmine_bpf_skeleton(NAME SOURCE): builds NAME.bpf.o and NAME.skel.h in ${SANDMINE_BPF_GEN}.
function(sandmine_bpf_skeleton name source)
  set(obj ${SANDMINE_BPF_GEN}/${name}.bpf.o)
  set(skel ${SANDMINE_BPF_GEN}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${SANDMINE_BPF_ARCH}
            -Wall -Werror -I${SANDMINE_BPF_GEN} -I${CMAKE_SOURCE_DIR}/bpf
            -c ${source} -o ${obj}
    DEPENDS ${source} ${CMAKE_SOURCE_DIR}/bpf/recorder.h ${SANDMINE_BPF_GEN}/vmlinux.h
    COMMENT "Compiling BPF program ${name}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}
    DEPENDS ${obj}
    COMMENT "Generating BPF skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel DEPENDS ${skel})
endfunction()
