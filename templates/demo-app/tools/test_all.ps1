# Runs every check of the demo app: ist_check, build, e2e. Prints a summary, exits 1 if any step failed.
# Node twin: tools/test_all.mjs (npm test). Needs node on PATH.
# Usage: powershell -ExecutionPolicy Bypass -File tools/test_all.ps1   (or: pwsh -File ...)
$appDir = Split-Path -Parent $PSScriptRoot
$script:results = @()
$script:failed = $false

if (-not (Get-Command node -ErrorAction SilentlyContinue)) {
  Write-Host 'FAIL - node is not on PATH'
  exit 1
}

function Invoke-Step([string]$Name, [scriptblock]$Action) {
  if ($script:failed) {
    $script:results += [pscustomobject]@{ Step = $Name; Result = 'SKIPPED'; Seconds = '' }
    return
  }
  Write-Host ''
  Write-Host "=== $Name"
  $watch = [System.Diagnostics.Stopwatch]::StartNew()
  $global:LASTEXITCODE = 0
  try {
    & $Action | Out-Host
    $code = $global:LASTEXITCODE
  } catch {
    Write-Host "ERROR: $($_.Exception.Message)"
    $code = 1
  }
  $result = 'PASS'
  if ($code -ne 0) {
    $result = "FAIL (exit $code)"
    $script:failed = $true
  }
  $script:results += [pscustomobject]@{ Step = $Name; Result = $result; Seconds = '{0:N1}s' -f $watch.Elapsed.TotalSeconds }
}

Push-Location $appDir
try {
  Invoke-Step 'ist_check' { & (Join-Path $PSScriptRoot 'ist_check.ps1') }
  Invoke-Step 'build' { node scripts/build.mjs }
  Invoke-Step 'e2e' { node scripts/e2e.mjs }
} finally {
  Pop-Location
}

Write-Host ''
Write-Host '=== summary'
$script:results | Format-Table -AutoSize | Out-Host
if ($script:failed) {
  Write-Host 'test_all failed'
  exit 1
}
Write-Host 'test_all passed'
exit 0
