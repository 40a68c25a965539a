# Intune detection rule: installed when the binary, the settings and the scheduled task exist.
$ErrorActionPreference = 'SilentlyContinue'
$exe = Join-Path $env:ProgramFiles 'Palisade\palisade.exe'
$settings = Join-Path $env:ProgramData 'Palisade\agent.json'
$task = Get-ScheduledTask -TaskPath '\Palisade\' -TaskName 'Agent'
if ((Test-Path -LiteralPath $exe) -and (Test-Path -LiteralPath $settings) -and $task) {
  Write-Output 'Palisade agent installed'
  exit 0
}
exit 1
