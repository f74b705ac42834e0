; AutoGrowth Trader's Windows installer (NSIS 3, Unicode).
;
; Per-user: no administrator rights, installs to %LOCALAPPDATA%\Programs\AutoGrowth Trader, a
; Start-menu shortcut and, if chosen, a desktop shortcut; registered in "Apps & features" for the
; user. The uninstaller removes the program and keeps the user's data (orders, settings, the
; database, logs in %LOCALAPPDATA%\AutoGrowthTrader) unless the user ticks "Also delete my data".
;
; Built by packaging/build.py --installer, which passes:
;   VERSION   the version (0.1.0)          VERSION4  the same as four numbers (0.1.0.0)
;   DIST_DIR  the one-folder PyInstaller build (AutoGrowthTrader.exe and _internal\)
;   OUT_FILE  the installer to write       ICON      resources\icons\autogrowth.ico
;   EXE_SOURCE the executable's name in DIST_DIR when not AutoGrowthTrader.exe (the Linux stand-in)
;   NO_COMPRESSION  store the files uncompressed (a quick compile that checks the script)

Unicode true
ManifestDPIAware true
!ifdef NO_COMPRESSION
  SetCompress off  ; a quick compile that checks the script (CI)
!else
  SetCompressor /SOLID lzma
!endif

!ifndef VERSION
  !error "VERSION is not defined (makensis -DVERSION=0.1.0 ...)"
!endif
!ifndef VERSION4
  !error "VERSION4 is not defined (makensis -DVERSION4=0.1.0.0 ...)"
!endif
!ifndef DIST_DIR
  !error "DIST_DIR is not defined: the one-folder build to install"
!endif
!ifndef OUT_FILE
  !define OUT_FILE "AutoGrowthTrader-${VERSION}-setup.exe"
!endif

!define PRODUCT "AutoGrowth Trader"
!define EXE "AutoGrowthTrader.exe"
!ifndef EXE_SOURCE  ; the Linux build, a stand-in payload in CI, has no .exe
  !define EXE_SOURCE "${EXE}"
!endif
!define COMPANY "AutoGrowth"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\AutoGrowthTrader"
!define DATA_DIR "$LOCALAPPDATA\AutoGrowthTrader"

Name "${PRODUCT}"
OutFile "${OUT_FILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
InstallDirRegKey HKCU "Software\${COMPANY}\${PRODUCT}" "InstallDir"
BrandingText "${PRODUCT} ${VERSION}"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey /LANG=0 "ProductName" "${PRODUCT}"
VIAddVersionKey /LANG=0 "CompanyName" "${COMPANY}"
VIAddVersionKey /LANG=0 "FileDescription" "${PRODUCT} installer"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "LegalCopyright" "${COMPANY}"

!include "MUI2.nsh"
!include "FileFunc.nsh"

!ifdef ICON
  !define MUI_ICON "${ICON}"
  !define MUI_UNICON "${ICON}"
!endif
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"
!define MUI_COMPONENTSPAGE_NODESC

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "Korean"

LangString SecProgram ${LANG_ENGLISH} "${PRODUCT} (required)"
LangString SecProgram ${LANG_KOREAN} "${PRODUCT} (필수)"
LangString SecDesktop ${LANG_ENGLISH} "Desktop shortcut"
LangString SecDesktop ${LANG_KOREAN} "바탕 화면 바로 가기"
LangString SecUnProgram ${LANG_ENGLISH} "Remove the program"
LangString SecUnProgram ${LANG_KOREAN} "프로그램 제거"
LangString SecUnData ${LANG_ENGLISH} "Also delete my data (orders, settings, database and logs)"
LangString SecUnData ${LANG_KOREAN} "내 데이터도 삭제 (주문, 설정, 데이터베이스, 로그)"
LangString AppRunning ${LANG_ENGLISH} "${PRODUCT} is running. Close it, then click Retry."
LangString AppRunning ${LANG_KOREAN} "${PRODUCT} 프로그램이 실행 중입니다. 프로그램을 닫은 뒤 다시 시도를 누르세요."

Function .onInit
  SetShellVarContext current
  !insertmacro MUI_LANGDLL_DISPLAY
FunctionEnd

Function un.onInit
  SetShellVarContext current
FunctionEnd

; A running copy holds its files open: ask the user to close it rather than fail half-way.
!macro CHECK_RUNNING
  retry:
    ClearErrors
    FileOpen $0 "$INSTDIR\${EXE}" a
    IfErrors 0 free
    IfFileExists "$INSTDIR\${EXE}" 0 free
    MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "$(AppRunning)" IDRETRY retry
    Abort
  free:
    FileClose $0
!macroend

Section "!$(SecProgram)" SecProgram
  SectionIn RO
  !insertmacro CHECK_RUNNING
  SetOutPath "$INSTDIR"
  ; An update replaces the program's files; the user's data lives elsewhere and is not touched.
  RMDir /r "$INSTDIR\_internal"
  File "/oname=${EXE}" "${DIST_DIR}/${EXE_SOURCE}"
  File /r "${DIST_DIR}/_internal"
  WriteUninstaller "$INSTDIR\Uninstall.exe"

  CreateDirectory "$SMPROGRAMS\${PRODUCT}"
  CreateShortcut "$SMPROGRAMS\${PRODUCT}\${PRODUCT}.lnk" "$INSTDIR\${EXE}"
  CreateShortcut "$SMPROGRAMS\${PRODUCT}\Uninstall ${PRODUCT}.lnk" "$INSTDIR\Uninstall.exe"

  WriteRegStr HKCU "Software\${COMPANY}\${PRODUCT}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${COMPANY}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${EXE}"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\Uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\Uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" "$0"
SectionEnd

Section /o "$(SecDesktop)" SecDesktop
  CreateShortcut "$DESKTOP\${PRODUCT}.lnk" "$INSTDIR\${EXE}"
SectionEnd

Section "!un.$(SecUnProgram)" SecUnProgram
  SectionIn RO
  !insertmacro CHECK_RUNNING
  ; Only what the installer put there: never RMDir /r the install folder itself (a user may
  ; have chosen a folder that holds other files).
  Delete "$INSTDIR\${EXE}"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\Uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${PRODUCT}\${PRODUCT}.lnk"
  Delete "$SMPROGRAMS\${PRODUCT}\Uninstall ${PRODUCT}.lnk"
  RMDir "$SMPROGRAMS\${PRODUCT}"
  Delete "$DESKTOP\${PRODUCT}.lnk"
  DeleteRegKey HKCU "${UNINST_KEY}"
  DeleteRegKey HKCU "Software\${COMPANY}\${PRODUCT}"
  DeleteRegKey /ifempty HKCU "Software\${COMPANY}"
SectionEnd

; Off unless the user ticks it: the data survives an uninstall (and a reinstall finds it).
Section /o "un.$(SecUnData)" SecUnData
  RMDir /r "${DATA_DIR}"
SectionEnd
