export default defineAppConfig({
  pages: [
    'pages/scan/index',
    'pages/confirm/index',
    'pages/pass/index',
    'pages/status/index',
    'pages/itinerary/index',
    'pages/inbox/index',
    'pages/settings/index',
    'pages/export/index',
    'pages/staff/index',
  ],
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#0b6e4f',
    navigationBarTitleText: '乘车登记',
    navigationBarTextStyle: 'white',
  },
});
