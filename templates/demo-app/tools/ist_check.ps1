# Ist-Zustand check: required files exist, release.json is valid, no secrets lie in the tree.
# Exit 0 when all checks pass, 1 otherwise. Node twin: tools/ist_check.mjs.
# Usage: powershell -ExecutionPolicy Bypass -File tools/ist_check.ps1   (or: pwsh -File ...)
$appDir = Split-Path -Parent $PSScriptRoot
$script:failures = 0

function Report([bool]$Ok, [string]$Name, [string]$Detail = '') {
  if (-not $Ok) { $script:failures++ }
  $line = if ($Ok) { "ok   - $Name" } else { "FAIL - $Name" }
  if ($Detail) { $line += ": $Detail" }
  Write-Host $line
}

# 1. Required files
$required = @(
  'package.json', 'package-lock.json', 'release.json', 'server.mjs', 'README.md', '.gitignore',
  'frontend/index.html', 'scripts/build.mjs', 'scripts/e2e.mjs',
  'tools/test_all.mjs', 'tools/test_all.ps1', 'tools/ist_check.mjs', 'tools/ist_check.ps1'
)
$missing = @($required | Where-Object { -not (Test-Path -LiteralPath (Join-Path $appDir $_) -PathType Leaf) })
$detail = ''
if ($missing.Count -gt 0) { $detail = 'missing ' + ($missing -join ', ') }
Report ($missing.Count -eq 0) 'required files present' $detail

# 2. release.json
try {
  $release = Get-Content -LiteralPath (Join-Path $appDir 'release.json') -Raw -ErrorAction Stop | ConvertFrom-Json -ErrorAction Stop
  $problems = @()
  if ("$($release.version)" -cnotmatch '^\d+\.\d+\.\d+$') { $problems += '"version" must look like 1.2.3' }
  if ("$($release.rc)" -cnotmatch '^rc-\d{4}-\d{2}-\d{2}(\.\d+)?$') { $problems += '"rc" must look like rc-2026-03-01' }
  if ($null -ne $release.health -and @('ok', 'broken') -cnotcontains $release.health) {
    $problems += '"health" must be "ok" or "broken"'
  }
  $detail = "$($release.version) ($($release.rc))"
  if ($problems.Count -gt 0) { $detail = $problems -join '; ' }
  Report ($problems.Count -eq 0) 'release.json valid' $detail
  # A release marked broken is a valid Ist-Zustand; its health endpoint fails at run time.
  if ($release.health -eq 'broken') { Write-Host 'note - release.json marks this release "health":"broken"' }
} catch {
  Report $false 'release.json valid' $_.Exception.Message
}

# 3. No secrets in the tree
$skipDirs = @('node_modules', 'dist', '.git')
$secretFile = '^(\.env(\..+)?|id_rsa|id_ed25519|.*\.(pem|key|p12|pfx))$'
$secretFileOk = '^\.env\.(example|sample|template)$'
$secretContent = [ordered]@{
  'private key block'    = '-{5}BEGIN [A-Z ]*PRIVATE KEY-{5}'
  'AWS access key id'    = '\bAKIA[0-9A-Z]{16}\b'
  'LTC_SECRET_KEY value' = 'LTC_SECRET_KEY\s*[=:]\s*["'']?[A-Za-z0-9+/_-]{16,}'
  'URL with password'    = '\b[A-Za-z][A-Za-z0-9+.-]*:/{2}[^\s:/@"''`]+:[^\s@/"''`]+@'
}

function Get-TreeFiles([string]$Dir) {
  foreach ($item in Get-ChildItem -LiteralPath $Dir -Force) {
    if ($skipDirs -contains $item.Name) { continue }
    if ($item.PSIsContainer) { Get-TreeFiles $item.FullName } else { $item }
  }
}

$findings = @()
foreach ($file in Get-TreeFiles $appDir) {
  $rel = $file.FullName.Substring($appDir.Length + 1).Replace('\', '/')
  if ($file.Name -match $secretFile -and $file.Name -notmatch $secretFileOk) { $findings += "$rel (secret file)" }
  $text = [System.IO.File]::ReadAllText($file.FullName)
  foreach ($label in $secretContent.Keys) {
    if ($text -cmatch $secretContent[$label]) { $findings += "$rel ($label)" }
  }
}
Report ($findings.Count -eq 0) 'no secrets in the tree' ($findings -join ', ')

if ($script:failures -gt 0) {
  Write-Host ''
  Write-Host "ist_check failed: $($script:failures) check(s) failed"
  exit 1
}
Write-Host ''
Write-Host 'ist_check passed'
exit 0
