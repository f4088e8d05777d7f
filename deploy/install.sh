#!/usr/bin/env bash
# Fundwatch 发布包安装脚本（在内网 Web 服务器上运行，不需要 Node）。
#
#   install.sh <fundwatch-….tar.gz> [安装目录，默认 /srv/fundwatch]
#
# 1. 若发布包旁有 <发布包>.sha256，先核对整个发布包（传输是否完整）；
# 2. 检查发布包内容：只有一个顶层目录 fundwatch-<版本>/，没有绝对路径、..、链接或设备文件；
# 3. 解压到 <安装目录>/releases/ 下的临时目录，用 sha256sum -c 核对每个文件，
#    不一致就删除这次未完成的安装并退出，current 保持不变；
# 4. 把当前版本 site/ 中 _observablehq/ _import/ _file/ _npm/ _node/ 下、新版本没有的文件复制到新版本
#    （文件名带内容哈希或版本号，绝不覆盖新版本的文件），让仍打开着旧页面的浏览器还能取到旧资源；
# 5. 改名为 releases/<版本>/，再原子地切换：current.tmp → current（mv -T，rename(2)）；
# 6. 只保留最近安装的 5 个版本（当前版本永不删除）。
#
# 同一版本重复安装是安全的（已安装且校验通过时直接复用）。
# 只用 bash、coreutils、tar 和 gzip。出错时退出码非 0：1 为安装失败，2 为用法错误。
set -euo pipefail
export LC_ALL=C
umask 022

KEEP=5
CARRY_DIRS="_observablehq _import _file _npm _node"
USAGE="用法：install.sh <发布包.tar.gz> [安装目录，默认 /srv/fundwatch]"

say() { printf '%s\n' "$*"; }
die() {
  printf '安装失败：%s\n' "$*" >&2
  exit 1
}

case "${1:-}" in
  -h | --help)
    say "$USAGE"
    exit 0
    ;;
esac
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
  say "$USAGE" >&2
  exit 2
fi

for tool in tar gzip sha256sum readlink mv ln sort comm cut chmod touch ls cp head wc tr dirname basename; do
  command -v "$tool" >/dev/null 2>&1 || die "找不到命令 $tool（需要 coreutils、tar、gzip）"
done

archive=$1
[ -f "$archive" ] || die "找不到发布包：$archive"
archive="$(cd "$(dirname -- "$archive")" && pwd -P)/$(basename -- "$archive")"
base=${2:-/srv/fundwatch}
mkdir -p -- "$base/releases" || die "无法创建目录 $base/releases"
base="$(cd "$base" && pwd -P)"
releases="$base/releases"

# --- 1. 传输校验 -------------------------------------------------------------------------------------
if [ -f "$archive.sha256" ]; then
  read -r expected _ <"$archive.sha256" || true
  [[ "${expected:-}" =~ ^[0-9a-f]{64}$ ]] || die "校验文件格式不对：$archive.sha256"
  actual=$(sha256sum <"$archive")
  actual=${actual%% *}
  if [ "$expected" != "$actual" ]; then
    die "发布包与校验文件不符（传输不完整或已损坏）：$archive
  $archive.sha256 记录的 sha256：$expected
  实际 sha256：$actual"
  fi
  say "传输校验通过：$(basename -- "$archive")（sha256 $actual）"
else
  say "提示：没有找到 $archive.sha256，跳过整体传输校验（下面仍会逐个文件核对 SHA256SUMS）。"
fi

# --- 加锁：同一时间只允许一个安装 ------------------------------------------------------------------
lock="$base/.install.lock"
staging=""
locked=""
cleanup() {
  if [ -n "$staging" ]; then rm -rf -- "$staging"; fi
  if [ -n "$locked" ]; then rm -rf -- "$lock"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if ! mkdir -- "$lock" 2>/dev/null; then
  other=$(cat -- "$lock/pid" 2>/dev/null || true)
  if [ -n "$other" ] && kill -0 "$other" 2>/dev/null; then
    die "另一个安装正在进行（进程 $other）；等它结束后再试（若确认没有安装在进行，删除 $lock 后重试）"
  fi
  rm -rf -- "$lock"
  mkdir -- "$lock" || die "无法创建锁目录 $lock"
fi
locked=1
say $$ >"$lock/pid"

# --- 2. 检查发布包的条目 -----------------------------------------------------------------------------
tar -tvzf "$archive" >"$lock/listing" 2>"$lock/tar.err" ||
  die "无法读取发布包（不是有效的 tar.gz，或已损坏）：$archive
$(head -c 2000 "$lock/tar.err")"
tar -tzf "$archive" >"$lock/names" 2>"$lock/tar.err" || die "无法读取发布包：$(head -c 2000 "$lock/tar.err")"
while IFS= read -r line; do
  case "${line:0:1}" in
    - | d) ;;
    *) die "发布包含有不允许的条目（链接、设备文件等）：$line" ;;
  esac
done <"$lock/listing"
id=""
while IFS= read -r name; do
  case "$name" in
    /*) die "发布包含有绝对路径，拒绝安装：$name" ;;
  esac
  case "/$name/" in
    */../*) die "发布包含有 ..，拒绝安装：$name" ;;
  esac
  first=${name%%/*}
  if [ -z "$id" ]; then
    id=$first
  elif [ "$first" != "$id" ]; then
    die "发布包应只有一个顶层目录（$id/），却有：$name"
  fi
done <"$lock/names"
[[ "$id" =~ ^fundwatch-[A-Za-z0-9._-]+$ ]] || die "发布包的顶层目录不是 fundwatch-<版本>/：${id:-（空）}"
target="$releases/$id"

current_rel=""
if [ -L "$base/current" ]; then
  current_rel=$(readlink -- "$base/current")
elif [ -e "$base/current" ]; then
  die "$base/current 存在但不是符号链接；请先手工处理（改名备份），再安装"
fi
current_id=${current_rel##*/}

# --- 3. 解压并核对（或复用已安装且完好的同一版本） -----------------------------------------------------
reuse=""
if [ -d "$target" ]; then
  if tar -xzf "$archive" -O "$id/SHA256SUMS" >"$lock/SHA256SUMS.new" 2>/dev/null &&
    [ -f "$target/SHA256SUMS" ] &&
    [ "$(sha256sum <"$lock/SHA256SUMS.new")" = "$(sha256sum <"$target/SHA256SUMS")" ] &&
    (cd "$target" && sha256sum -c --quiet --strict SHA256SUMS >/dev/null 2>&1); then
    reuse=1
    say "版本 $id 已安装且校验通过，直接复用。"
  elif [ "$current_id" = "$id" ]; then
    die "已安装的 $id 与发布包不一致或已损坏，而且正在使用中。请先把 current 指向另一个版本（见 INSTALL.md「回退」），再重新安装"
  fi
fi

if [ -z "$reuse" ]; then
  for old in "$releases"/.staging-*; do
    if [ -e "$old" ]; then rm -rf -- "$old"; fi
  done
  staging="$releases/.staging-$id.$$"
  mkdir -- "$staging"
  say "正在解压 $(basename -- "$archive") …"
  tar -xzf "$archive" -C "$staging" --no-same-owner --no-same-permissions 2>"$lock/tar.err" ||
    die "解压失败，已删除未完成的安装：$(head -c 2000 "$lock/tar.err")"
  new="$staging/$id"
  for need in SHA256SUMS manifest.json site; do
    [ -e "$new/$need" ] || die "发布包缺少 $id/$need，已删除未完成的安装"
  done
  chmod -R u+rwX,go+rX,go-w -- "$new"
  if ! (cd "$new" && sha256sum -c --quiet --strict SHA256SUMS) >"$lock/check" 2>&1; then
    say "以下文件与 SHA256SUMS 不符：" >&2
    head -n 50 "$lock/check" >&2
    die "文件校验失败，已删除未完成的安装 $id；current 未改动${current_id:+（仍指向 $current_id）}"
  fi
  # Every file of site/ must be listed: an unlisted one would be served unchecked.
  (
    cd "$new"
    shopt -s globstar dotglob nullglob
    for f in site/**; do
      if [ -f "$f" ]; then printf '%s\n' "$f"; fi
    done
  ) | sort >"$lock/files"
  cut -c67- "$new/SHA256SUMS" | sort >"$lock/listed"
  comm -23 "$lock/files" "$lock/listed" >"$lock/extra"
  if [ -s "$lock/extra" ]; then
    say "以下文件不在 SHA256SUMS 中：" >&2
    head -n 50 "$lock/extra" >&2
    die "发布包含有未登记的文件，已删除未完成的安装 $id；current 未改动"
  fi
  say "文件校验通过：$(wc -l <"$new/SHA256SUMS" | tr -d ' ') 个文件与 SHA256SUMS 一致。"
else
  new="$target"
fi

# --- 4. 带入当前版本的哈希资源 ---------------------------------------------------------------------
carried=0
if [ -n "$current_id" ] && [ "$current_id" != "$id" ] && [ -f "$releases/$current_id/SHA256SUMS" ]; then
  old="$releases/$current_id"
  # Only the current release's own files (its SHA256SUMS), not those it carried itself: a browser
  # holding a page one release old is served; older leftovers do not pile up release after release.
  while IFS= read -r line; do
    path=${line:66}
    keep=""
    for d in $CARRY_DIRS; do
      case "$path" in "site/$d/"*) keep=1 ;; esac
    done
    if [ -z "$keep" ] || [ -e "$new/$path" ] || [ ! -f "$old/$path" ]; then continue; fi
    mkdir -p -- "$(dirname -- "$new/$path")"
    cp -p -- "$old/$path" "$new/$path.carry.$$"
    mv -f -- "$new/$path.carry.$$" "$new/$path"
    printf '%s\n' "$path" >>"$new/CARRIED_OVER"
    carried=$((carried + 1))
  done <"$old/SHA256SUMS"
  if [ "$carried" -gt 0 ]; then
    say "从当前版本 $current_id 带入 $carried 个旧资源文件（清单见 releases/$id/CARRIED_OVER）。"
  fi
elif [ -n "$current_id" ] && [ "$current_id" != "$id" ]; then
  say "提示：当前版本 $current_id 没有 SHA256SUMS，未带入旧资源。"
fi

# --- 5. 就位并原子切换 -------------------------------------------------------------------------------
if [ -z "$reuse" ]; then
  if [ -d "$target" ]; then rm -rf -- "$target"; fi
  mv -T -- "$new" "$target" || die "无法把新版本移到 $target"
  rm -rf -- "$staging"
  staging=""
fi
touch -- "$target"
if [ "$current_rel" = "releases/$id" ]; then
  say "current 已指向 releases/$id，无需切换。"
else
  rm -f -- "$base/current.tmp"
  ln -s -- "releases/$id" "$base/current.tmp" || die "无法创建 $base/current.tmp"
  mv -T -- "$base/current.tmp" "$base/current" || die "切换 current 失败；current 未改动"
  say "已切换：current → releases/$id${current_id:+（原为 $current_id）}"
fi

# --- 6. 只保留最近的版本 -----------------------------------------------------------------------------
n=0
while IFS= read -r dir; do
  dir=${dir%/}
  name=${dir##*/}
  n=$((n + 1))
  if [ "$n" -gt "$KEEP" ] && [ "$name" != "$id" ]; then
    rm -rf -- "$dir"
    say "已删除旧版本 $name"
  fi
done < <(ls -1dt -- "$releases"/fundwatch-*/ 2>/dev/null || true)

as_of=""
while IFS= read -r line; do
  case "$line" in
    *'"as_of": "'*)
      as_of=${line#*\"as_of\": \"}
      as_of=${as_of%%\"*}
      break
      ;;
  esac
done <"$target/manifest.json"
say "安装完成：$id（数据截至 ${as_of:-未知}），位于 $target"
