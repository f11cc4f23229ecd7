#!/usr/bin/env bash
# Confluent.Kafka needs the native librdkafka, which NuGet normally brings as the package librdkafka.redist.
# Where the package registry lacks it (as on ChatKit's build machine), this packs the operating system's
# librdkafka (Debian's librdkafka1, 2.0.2) as librdkafka.redist 1.9.2, the version Confluent.Kafka 1.9.3
# asks for, into .packages/; Directory.Build.props adds that folder as a restore source only when the
# package is there. Where the registry has the real package, this does nothing. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

version=1.9.2
package=".packages/librdkafka.redist.${version}.nupkg"
library=/usr/lib/x86_64-linux-gnu/librdkafka.so.1
gallery="https://api.nuget.org/v3-flatcontainer/librdkafka.redist/${version}/librdkafka.redist.${version}.nupkg"

if [ -f "$package" ]; then
  exit 0
fi

if command -v curl >/dev/null 2>&1 && [ "$(curl -s -o /dev/null -I -w '%{http_code}' "$gallery")" = 200 ]; then
  exit 0
fi

if [ ! -f "$library" ]; then
  echo "librdkafka is missing ($library): apt-get install librdkafka1 (scripts/test.sh does, as root)." >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/librdkafka.redist.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>netstandard2.0</TargetFramework>
    <PackageId>librdkafka.redist</PackageId>
    <Version>${version}</Version>
    <Authors>ChatKit build (repackaged from Debian's librdkafka1)</Authors>
    <Description>The operating system's librdkafka, packed for restore where the registry lacks librdkafka.redist. Linux x64 only.</Description>
    <IncludeBuildOutput>false</IncludeBuildOutput>
    <SuppressDependenciesWhenPacking>true</SuppressDependenciesWhenPacking>
    <NoWarn>\$(NoWarn);NU5128;NU5100</NoWarn>
  </PropertyGroup>
  <ItemGroup>
    <None Include="librdkafka.so" Pack="true" PackagePath="runtimes/linux-x64/native/" />
  </ItemGroup>
</Project>
PROJECT
cp "$library" "$work/librdkafka.so"
mkdir -p .packages
dotnet pack "$work/librdkafka.redist.csproj" -c Release -o "$PWD/.packages" --nologo -v q >/dev/null
echo "Packed $library as $package."
