# Intune uninstall: removes the scheduled task, the settings (the agent key), the state and the binary.
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$exe = Join-Path $env:ProgramFiles 'Palisade\palisade.exe'
if (Test-Path -LiteralPath $exe) { & $exe agent uninstall --purge }
Remove-Item -Recurse -Force -ErrorAction SilentlyContinue (Join-Path $env:ProgramFiles 'Palisade'), (Join-Path $env:ProgramData 'Palisade')
