import { Tabs } from 'antd';
import { useSearchParams } from 'react-router-dom';
import { useT } from '../../i18n/index.js';
import { hasScope, useOfficial } from '../../session.js';
import { ClientsTab } from './Clients.js';
import { OfficialsTab } from './Officials.js';
import { OperatorsTab } from './Operators.js';

type Tab = 'officials' | 'clients' | 'operators';

/**
 * Administration: official persons (`officials:admin`), machine clients and transport operators (`admin`). The open
 * tab is in the address (`?tab=`), so a reload or a shared link shows the same one.
 */
export function AdminPage() {
  const t = useT();
  const me = useOfficial();
  const [params, setParams] = useSearchParams();
  const tabs = [
    ...(hasScope(me, 'officials:admin')
      ? [{ key: 'officials' as Tab, label: t('admin.tabOfficials'), children: <OfficialsTab /> }]
      : []),
    ...(hasScope(me, 'admin')
      ? [
          { key: 'clients' as Tab, label: t('admin.tabClients'), children: <ClientsTab /> },
          { key: 'operators' as Tab, label: t('admin.tabOperators'), children: <OperatorsTab /> },
        ]
      : []),
  ];
  const wanted = params.get('tab');
  const active = tabs.find((x) => x.key === wanted)?.key ?? tabs[0]?.key;
  return (
    <Tabs
      activeKey={active}
      items={tabs}
      destroyOnHidden
      onChange={(key) => setParams({ tab: key }, { replace: true })}
    />
  );
}
