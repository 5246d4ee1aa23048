import { LogoutOutlined, UserOutlined } from '@ant-design/icons';
import { Button, Layout, Menu, Select, Space, Spin, Tag, Tooltip, Typography } from 'antd';
import { Suspense } from 'react';
import { Outlet, useLocation, useNavigate } from 'react-router-dom';
import { useLocale, useT, type Locale } from '../i18n/index.js';
import { useOfficial, useSession } from '../session.js';
import { navFor } from './nav.js';

const { Header, Sider, Content } = Layout;

/** The signed-in frame: side menu by scope, who-am-I, language switch, sign-out. */
export function Shell() {
  const t = useT();
  const { locale, setLocale } = useLocale();
  const official = useOfficial();
  const { signOut } = useSession();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const items = navFor(official);
  const selected = items.find((i) => pathname === i.path || pathname.startsWith(`${i.path}/`))?.path;
  const jurisdiction = official.jurisdiction.length
    ? official.jurisdiction.join('、')
    : t('shell.allJurisdictions');

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Sider breakpoint="lg" collapsedWidth={0} theme="dark" width={200}>
        <div className="rt-brand">
          <Typography.Text strong style={{ color: '#fff' }}>
            {t('app.title')}
          </Typography.Text>
        </div>
        <nav aria-label={t('shell.menu')}>
          <Menu
            theme="dark"
            mode="inline"
            selectedKeys={selected ? [selected] : []}
            items={items.map((i) => ({ key: i.path, icon: i.icon, label: t(i.label) }))}
            onClick={({ key }) => void navigate(key)}
          />
        </nav>
      </Sider>
      <Layout>
        <Header className="rt-header">
          <Space size="middle" wrap aria-label={t('shell.whoAmI')} role="group">
            <UserOutlined aria-hidden />
            <Typography.Text strong data-testid="who-am-i">
              {official.name}
            </Typography.Text>
            <Typography.Text type="secondary">{official.agency}</Typography.Text>
            <Tooltip title={t('shell.jurisdiction')}>
              <Tag color="blue">
                {t('shell.jurisdiction')}: {jurisdiction}
              </Tag>
            </Tooltip>
          </Space>
          <Space size="middle">
            <Select<Locale>
              aria-label={t('shell.language')}
              value={locale}
              onChange={setLocale}
              style={{ width: 110 }}
              options={[
                { value: 'zh-CN', label: '简体中文' },
                { value: 'en', label: 'English' },
              ]}
            />
            <Button icon={<LogoutOutlined />} onClick={() => void signOut()}>
              {t('shell.signOut')}
            </Button>
          </Space>
        </Header>
        <Content className="rt-content">
          <main>
            <Suspense fallback={<Spin size="large" style={{ display: 'block', margin: 48 }} />}>
              <Outlet />
            </Suspense>
          </main>
        </Content>
      </Layout>
    </Layout>
  );
}
