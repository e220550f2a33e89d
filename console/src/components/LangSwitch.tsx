// The language switch: one button naming the other language, remembered in the browser.
import { lang, setLang, t } from '../i18n/index.ts'
import { useStore } from '../lib/store.ts'

export function LangSwitch() {
  const current = useStore(lang)
  return (
    <button type="button" class="ghost" id="lang" title={t('lang.label')} lang={current === 'en' ? 'zh-CN' : 'en'} onClick={() => setLang(current === 'en' ? 'zh-CN' : 'en')}>
      {t('lang.switch')}
    </button>
  )
}
